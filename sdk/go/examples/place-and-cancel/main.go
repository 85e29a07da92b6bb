// Command place-and-cancel is the Go SDK end to end against a running gateway: it authenticates
// with a bearer token, places a limit order, streams the account's order updates until the order
// is accepted, cancels it, sees it cancelled on the stream, and prints a one-line JSON summary.
// Any failure exits 1 with a message naming the step and the gRPC code.
//
//	go run ./examples/place-and-cancel --gateway http://127.0.0.1:8080 --token "$TOKEN"
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/status"

	"hft/sdk/go/client"
	hftv1 "hft/sdk/go/gen/hft/v1"
)

type summary struct {
	SDK           string `json:"sdk"`
	OrderID       string `json:"order_id"`
	ClientOrderID string `json:"client_order_id"`
	Placed        string `json:"placed"`
	Accepted      string `json:"accepted"`
	Cancelled     string `json:"cancelled"`
}

type flags struct {
	gateway, token, symbol, price, quantity string
	timeout                                 time.Duration
}

func main() {
	var f flags
	flag.StringVar(&f.gateway, "gateway", envOr("HFT_GATEWAY", "http://127.0.0.1:8080"), "the gateway's URL")
	flag.StringVar(&f.token, "token", os.Getenv("HFT_TOKEN"), "the caller's JWT (default $HFT_TOKEN)")
	flag.StringVar(&f.symbol, "symbol", "BTC-USD", "the instrument")
	flag.StringVar(&f.price, "price", "25000.50", "the buy order's limit price")
	flag.StringVar(&f.quantity, "quantity", "0.01", "the order's quantity")
	timeoutSeconds := flag.Float64("timeout-seconds", 20, "the whole run's deadline")
	flag.Parse()
	f.timeout = time.Duration(*timeoutSeconds * float64(time.Second))

	result, err := placeAndCancel(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "place-and-cancel (go): %v\n", err)
		os.Exit(1)
	}
	line, _ := json.Marshal(result)
	fmt.Println(string(line))
}

func placeAndCancel(f flags) (*summary, error) {
	if f.token == "" {
		return nil, errors.New("no token: pass --token or set HFT_TOKEN (npm run dev-token -- <account> trader)")
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout-seconds must be positive, got %v", f.timeout.Seconds())
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	clients, err := client.Dial(f.gateway, client.Options{Token: f.token})
	if err != nil {
		return nil, err
	}
	defer clients.Close()
	orders := clients.Orders

	clientOrderID := "sdk-go-" + randomHex(4)
	placeResponse, err := orders.PlaceOrder(ctx, &hftv1.PlaceOrderRequest{
		ClientOrderId: clientOrderID,
		Symbol:        f.symbol,
		Side:          hftv1.Side_SIDE_BUY,
		Type:          hftv1.OrderType_ORDER_TYPE_LIMIT,
		TimeInForce:   hftv1.TimeInForce_TIME_IN_FORCE_GTC,
		Price:         f.price,
		Quantity:      f.quantity,
	})
	if err != nil {
		return nil, rpcFailure(ctx, "PlaceOrder", err)
	}
	placed := placeResponse.GetOrder()
	if placed == nil {
		return nil, errors.New("PlaceOrder answered without an order")
	}
	if placed.GetStatus() == hftv1.OrderStatus_ORDER_STATUS_REJECTED {
		return nil, fmt.Errorf("PlaceOrder: the engine rejected the order: %s", placed.GetRejectMessage())
	}

	// From the placed order's sequence on, so the stream replays its acceptance however late it opens.
	streamCtx, closeStream := context.WithCancel(ctx)
	defer closeStream()
	updates, err := orders.StreamOrderUpdates(streamCtx, &hftv1.StreamOrderUpdatesRequest{FromSequence: placed.GetSequence(), Symbol: f.symbol})
	if err != nil {
		return nil, rpcFailure(ctx, "StreamOrderUpdates", err)
	}
	nextUpdate := func() (*hftv1.Order, error) {
		for {
			update, err := updates.Recv()
			if err != nil {
				return nil, rpcFailure(ctx, "StreamOrderUpdates", err)
			}
			if update.GetOrder().GetOrderId() == placed.GetOrderId() {
				return update.GetOrder(), nil
			}
		}
	}
	accepted, err := nextUpdate()
	if err != nil {
		return nil, err
	}
	if accepted.GetStatus() != hftv1.OrderStatus_ORDER_STATUS_NEW {
		return nil, fmt.Errorf("expected order %s ORDER_STATUS_NEW on the stream, got %s", placed.GetOrderId(), accepted.GetStatus())
	}

	cancelResponse, err := orders.CancelOrder(ctx, &hftv1.CancelOrderRequest{OrderId: placed.GetOrderId()})
	if err != nil {
		return nil, rpcFailure(ctx, "CancelOrder", err)
	}
	if got := cancelResponse.GetOrder().GetStatus(); got != hftv1.OrderStatus_ORDER_STATUS_CANCELLED {
		return nil, fmt.Errorf("CancelOrder answered %s, expected ORDER_STATUS_CANCELLED", got)
	}
	streamed := accepted
	for streamed.GetStatus() == hftv1.OrderStatus_ORDER_STATUS_NEW {
		if streamed, err = nextUpdate(); err != nil {
			return nil, err
		}
	}
	if streamed.GetStatus() != hftv1.OrderStatus_ORDER_STATUS_CANCELLED {
		return nil, fmt.Errorf("expected order %s ORDER_STATUS_CANCELLED on the stream, got %s", placed.GetOrderId(), streamed.GetStatus())
	}
	return &summary{
		SDK:           "go",
		OrderID:       placed.GetOrderId(),
		ClientOrderID: clientOrderID,
		Placed:        placed.GetStatus().String(),
		Accepted:      accepted.GetStatus().String(),
		Cancelled:     streamed.GetStatus().String(),
	}, nil
}

// rpcFailure names the step and the gRPC code (UNAUTHENTICATED, UNAVAILABLE, ...), or the deadline.
func rpcFailure(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: no answer within the deadline (--timeout-seconds)", step)
	}
	failure := status.Convert(err)
	return fmt.Errorf("%s failed: %s: %s", step, code.Code(failure.Code()), failure.Message())
}

func randomHex(bytes int) string {
	buffer := make([]byte, bytes)
	_, _ = rand.Read(buffer)
	return hex.EncodeToString(buffer)
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}
