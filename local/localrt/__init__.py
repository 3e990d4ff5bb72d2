"""The local runtime: the whole system on one machine, on moto's server as the embedded AWS."""
