package passport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestKeyFormats(t *testing.T) {
	key := testKey(t, 2048)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pem  []byte
		ok   bool
	}{
		{"pkcs1", MarshalPrivateKey(key), true},
		{"pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), true},
		{"ecdsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), false},
		{"1024 bits", MarshalPrivateKey(small), false},
		{"public key", mustPublicPEM(t, &key.PublicKey), false},
		{"not pem", []byte("hello"), false},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}}), false},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{
			"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, Bytes: []byte{1}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tt.pem)
			if tt.ok {
				if err != nil || !k.Equal(key) {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrKey) {
				t.Fatalf("err = %v, want ErrKey", err)
			}
			if strings.Contains(err.Error(), "MII") {
				t.Error("error contains key material")
			}
		})
	}
}

func mustPublicPEM(t *testing.T, k *rsa.PublicKey) []byte {
	t.Helper()
	b, err := MarshalPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublicKeyPEM(t *testing.T) {
	key := testKey(t, 2048)
	spki := mustPublicPEM(t, &key.PublicKey)
	if !strings.HasPrefix(string(spki), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("public key is not SPKI PEM: %.30s", spki)
	}
	for name, b := range map[string][]byte{
		"spki":  spki,
		"pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}),
	} {
		k, err := ParsePublicKey(b)
		if err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParsePublicKey(MarshalPrivateKey(key)); !errors.Is(err, ErrKey) {
		t.Errorf("private key as public: %v", err)
	}
	if _, err := GenerateKey(1024); !errors.Is(err, ErrKey) {
		t.Errorf("GenerateKey(1024): %v", err)
	}
}
