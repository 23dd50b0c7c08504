"""face-clean watch: filesystem events, files still being written, the loop, its heartbeat."""
