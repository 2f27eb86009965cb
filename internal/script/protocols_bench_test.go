package script

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targetpb"
	"github.com/horde-load/horde/internal/target/targettest"
)

// BenchmarkGRPCUnaryCall is one task making one unary gRPC call (a small
// Echo) against the target's service in this process, described by a
// .proto file: the script layer's cost on top of grpc-go's.
func BenchmarkGRPCUnaryCall(b *testing.B) {
	_, srv := targettest.Start(b, target.Options{})
	addr := targettest.StartGRPC(b, srv)
	sc := mustLoad(b, `
grpc.proto("target.proto")
def t(u):
    u.grpc("/horde.target.v1.Target/Echo", {"text": "hello"}, addr="`+addr+`")
users = user(name="U", tasks=[t])
`, "target.proto", targetProto(b))
	rec := benchTask(b, sc, "")
	if n := len(rec.all()); n < b.N {
		b.Fatalf("recorded %d of %d", n, b.N)
	}
}

// BenchmarkGRPCUnaryPlain is the same call from grpc-go's generated client
// alone: the floor BenchmarkGRPCUnaryCall is compared with.
func BenchmarkGRPCUnaryPlain(b *testing.B) {
	_, srv := targettest.Start(b, target.Options{})
	addr := targettest.StartGRPC(b, srv)
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	c := targetpb.NewTargetClient(cc)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.Echo(ctx, &targetpb.EchoMessage{Text: "hello"}); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

// BenchmarkWebSocketRoundTrip is one task sending a message on an open
// socket and reading its echo as a named round trip.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	base, _ := targettest.Start(b, target.Options{})
	sc := mustLoad(b, `
def t(u):
    if "ws" not in u.state:
        u.state["ws"] = u.websocket("/ws/echo")
    ws = u.state["ws"]
    ws.send("hello")
    ws.recv(name="echo")
users = user(name="U", tasks=[t])
`)
	benchTask(b, sc, base)
}

// BenchmarkWebSocketRoundTripPlain is the same round trip with gorilla's
// client alone.
func BenchmarkWebSocketRoundTripPlain(b *testing.B) {
	base, _ := targettest.Start(b, target.Options{})
	c, _, err := websocket.DefaultDialer.Dial("ws"+base[len("http"):]+"/ws/echo", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
