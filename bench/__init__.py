"""Benchmarks for vms-deploy (issue 7). Run bench/run_all.sh; results go to docs/BENCHMARKS.md."""
