package verify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/swarmboot/swarmboot/pki"
)

// ClientTLS is the operator's TLS configuration from the cluster's PKI
// (dir/client), and Explain for its errors, naming the files to fix.
func ClientTLS(dir string) (*tls.Config, func(error) string, error) {
	s, err := pki.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.Client()
	if err != nil {
		return nil, nil, err
	}
	cert, err := tls.X509KeyPair(m.Cert, m.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, "client"), err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(m.CA) {
		return nil, nil, fmt.Errorf("%s: no certificate in it", filepath.Join(dir, "ca.pem"))
	}
	ca, cli := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client", "cert.pem")
	explain := func(err error) string {
		var unknown x509.UnknownAuthorityError
		var host x509.HostnameError
		msg := err.Error()
		switch {
		case errors.As(err, &unknown):
			return "the node's certificate is not signed by " + ca + ": the node runs another cluster's user-data, or --pki names the wrong PKI"
		case errors.As(err, &host):
			return "the node's certificate does not name this address: re-render (the certificate is re-issued for the description's IP) and re-provision the node"
		case strings.Contains(msg, "certificate required"), strings.Contains(msg, "bad certificate"), strings.Contains(msg, "unknown certificate authority"):
			return "the node refused " + cli + ": it trusts another CA, or the certificate was re-issued by `pki init --force`"
		case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
			return "the node speaks plain HTTP: it runs user-data rendered with tls: false"
		}
		return ""
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, explain, nil
}
