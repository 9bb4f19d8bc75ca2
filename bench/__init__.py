"""The engine benchmark (issue 5): `make bench` / `make bench-quick`; see bench/README.md."""
