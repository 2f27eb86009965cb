package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig builds the TLS configuration of the worker port from PEM
// files.
//
// For the master (server true) certFile and keyFile are required; with
// caFile it requires mutual TLS: every worker must present a certificate
// signed by that CA. For a worker (server false) caFile, when given, is
// the CA that signed the master's certificate (otherwise the system roots
// verify it), and certFile/keyFile, both or neither, are the worker's own
// certificate for mutual TLS.
func TLSConfig(certFile, keyFile, caFile string, server bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("cluster: TLS needs both a certificate and a key file, or neither")
	}
	if server && certFile == "" {
		return nil, errors.New("cluster: a TLS master needs a certificate and a key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("cluster: load TLS certificate %s and key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if caFile == "" {
		return cfg, nil
	}
	pool, err := loadCA(caFile)
	if err != nil {
		return nil, err
	}
	if server {
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	} else {
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// loadCA reads a PEM file of CA certificates into a pool.
func loadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cluster: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster: CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
