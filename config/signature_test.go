package config

import (
	"strings"
	"testing"
)

func TestDeliverySignature(t *testing.T) {
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // base64 of 24 bytes
	base := level + `telegram:
  app_id: 12345
  app_hash: 00000000000000000000000000000000
  bot_token: "1:file-token-file-token-file-token-file"
delivery:
  webhook_url: https://backend.example.com/kyc
`
	tests := []struct {
		name, extra, want string
	}{
		{"the default", "  webhook_secret: file-secret-file-secret-file-secret\n", ""},
		{"standard with a whsec_ secret", "  webhook_secret: " + whsec + "\n  signature: standard\n", ""},
		{"both with a whsec_ secret", "  webhook_secret: " + whsec + "\n  signature: both\n  keep_events: 30d\n", ""},
		{"standard with a plain secret", "  webhook_secret: file-secret-file-secret-file-secret\n  signature: standard\n",
			"delivery.webhook_secret: is not a Standard Webhooks secret: it must start with whsec_"},
		{"a previous plain secret", "  webhook_secret: " + whsec + "\n  previous_webhook_secret: file-secret-file-secret-file-secret\n  signature: both\n",
			"delivery.previous_webhook_secret: is not a Standard Webhooks secret"},
		{"a short key", "  webhook_secret: whsec_c2hvcnQga2V5IHNob3J0IGtleSBzaG9ydCBrZXk=x\n  signature: both\n", "not standard base64"},
		{"an unknown scheme", "  webhook_secret: file-secret-file-secret-file-secret\n  signature: svix\n", `delivery.signature: is "svix": use kycbot`},
		{"events kept too long", "  webhook_secret: file-secret-file-secret-file-secret\n  keep_events: 365d\n", "delivery.keep_events: 365d is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(base+tt.extra), "kycbot.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Delivery.Signature == "" || cfg.Delivery.KeepEvents == 0 {
					t.Errorf("signature %q, keep_events %v: want the defaults filled", cfg.Delivery.Signature, cfg.Delivery.KeepEvents)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "file-secret") || strings.Contains(err.Error(), whsec) {
				t.Fatal("the error holds a secret")
			}
		})
	}
}

func TestStandardKey(t *testing.T) {
	if k, err := StandardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil || len(k) != 24 {
		t.Fatalf("StandardKey: %d bytes, %v", len(k), err)
	}
	for _, bad := range []string{"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2hvcnQ=", "whsec_!!!!"} {
		if _, err := StandardKey(bad); err == nil {
			t.Errorf("StandardKey(%q) accepted", bad)
		}
	}
}
