//! Benchmarks only: see `benches/` and `ops/bench`.
