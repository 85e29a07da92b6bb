// Package client connects to the platform's gateway over gRPC and returns typed clients of its
// public services, each call carrying the caller's JWT as a bearer token.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	hftv1 "hft/sdk/go/gen/hft/v1"
)

// Options are what Dial takes besides the gateway's URL.
type Options struct {
	// Token is the caller's JWT, sent as "authorization: Bearer <token>" on every call.
	Token string
	// TLS configures an https:// gateway; nil verifies it against the system's roots.
	TLS *tls.Config
	// DialOptions are passed to grpc.NewClient after the SDK's own.
	DialOptions []grpc.DialOption
}

// Clients are the public services' clients on one connection.
type Clients struct {
	Orders     hftv1.OrderServiceClient
	MarketData hftv1.MarketDataServiceClient
	Analytics  hftv1.AnalyticsServiceClient
	conn       *grpc.ClientConn
}

// Dial connects lazily to the gateway at gatewayURL: http://host:port speaks cleartext HTTP/2
// (the local stack), https://host:port TLS. It fails only on a malformed URL or an empty token;
// an unreachable gateway shows as UNAVAILABLE on the first call.
func Dial(gatewayURL string, options Options) (*Clients, error) {
	parsed, err := url.Parse(gatewayURL)
	if err != nil || parsed.Host == "" || (parsed.Scheme != "http" && parsed.Scheme != "https") {
		return nil, fmt.Errorf("gateway URL %q: expected http://host:port or https://host:port", gatewayURL)
	}
	if options.Token == "" {
		return nil, errors.New("token is empty: expected a JWT for the gateway")
	}
	secure := parsed.Scheme == "https"
	transport := insecure.NewCredentials()
	if secure {
		transport = credentials.NewTLS(options.TLS)
	}
	dialOptions := append([]grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(bearerToken{token: options.Token, secure: secure}),
	}, options.DialOptions...)
	conn, err := grpc.NewClient(parsed.Host, dialOptions...)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", gatewayURL, err)
	}
	return &Clients{
		Orders:     hftv1.NewOrderServiceClient(conn),
		MarketData: hftv1.NewMarketDataServiceClient(conn),
		Analytics:  hftv1.NewAnalyticsServiceClient(conn),
		conn:       conn,
	}, nil
}

// Close ends the connection and every call still on it.
func (c *Clients) Close() error { return c.conn.Close() }

// bearerToken is the per-RPC credential. It allows cleartext only because Dial chose cleartext
// for an http:// URL: over https the token never leaves without TLS.
type bearerToken struct {
	token  string
	secure bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerToken) RequireTransportSecurity() bool { return b.secure }
