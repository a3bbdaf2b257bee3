// TLS of `swarm manage`, as cli/manage.go loadTLSConfig and api/server.go
// of swarm 1.2.9 set it up. One tls.Config serves both sides:
//   - as the API server: the manager's certificate; with --tlsverify, a
//     client certificate signed by --tlscacert is required;
//   - as the client of the engines: the same certificate is presented, and
//     the engine's certificate is checked against the CA with --tlsverify,
//     not checked at all with --tls alone.
// TLS 1.2 at least; HTTP/1.1 only on the listener.

package swarmmodel

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

func loadTLSConfig(ca, cert, key string, verify bool) (*tls.Config, error) {
	c, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("Couldn't load X509 key pair (%s, %s): %s. Key encrypted?", cert, key, err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{c},
		MinVersion:   tls.VersionTLS12,
	}
	if verify {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("Couldn't read CA certificate: %s", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		config.RootCAs = pool
		config.ClientAuth = tls.RequireAndVerifyClientCert
		config.ClientCAs = pool
	} else {
		config.InsecureSkipVerify = true
	}
	return config, nil
}

// serverTLS is the listener's copy of the config (api/server.go sets
// NextProtos on it).
func serverTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	s := c.Clone()
	s.NextProtos = []string{"http/1.1"}
	return s
}
