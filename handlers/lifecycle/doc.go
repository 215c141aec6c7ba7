// Package lifecycle handles what follows a verification: the reminders
// before it ends, with a one-tap button to verify again, and its expiry
// (status expired, badge off, the business told, the user told). A
// verification ends at its status's ValidUntil (the earliest of the
// identity document's expiry and the level's re-verification period),
// recorded in Redis (store.Validities): every instance sweeps the
// verifications that end soon, and each reminder and expiry is claimed in
// Redis before it is sent, so that it is sent once, whichever instance
// gets to it first and however often instances restart.
package lifecycle
