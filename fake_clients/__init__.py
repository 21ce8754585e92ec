"""Hostile network clients for tests and by hand: a stalled HTTP/2 gRPC caller
(``slow_h2_client``) and half-open HTTP connections (``half_open``)."""
