package httpx

// Client is one virtual user's HTTP session (placeholder until implemented).
type Client struct{}
