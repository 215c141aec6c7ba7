// Package metrics holds kycbot's Prometheus metrics: the collectors of one
// bot, registered on a registry of its own (never the global
// prometheus.DefaultRegisterer), and the hooks that feed them.
//
// New registers every series on the registry it is given:
//
//	kycbot_submissions_total{outcome,reason,level}  counter
//	kycbot_problems_total{code}                     counter
//	kycbot_verdict_seconds                          histogram
//	kycbot_deliveries_total{result}                 counter
//	kycbot_outbox_entries{state}                    gauge (WithOutboxDepth)
//	kycbot_telegram_rpc_errors_total{method,code,type} counter
//	kycbot_updates_in_flight                        gauge
//	kycbot_commands_total{command}                  counter
//
// Metrics implements handlers.Observer (submissions, problems, verdict
// times, commands); Delivery is delivery.Options.OnResult; Middleware is
// the gotd middleware counting the errors of Telegram calls; InFlight
// follows the update handlers running. Every label value is bounded: the
// outcome, reason and result constants of handlers and delivery, problem
// codes of package verify, configured level names, TL method names,
// Telegram error codes and types, and command names (any other command
// is "unknown"). Nothing personal ever becomes a label.
//
// docs/operations.md explains each series.
package metrics
