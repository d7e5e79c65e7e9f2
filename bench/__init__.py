"""Benchmarks (`make bench`): speed and memory targets of design.md §6, as ratios in one run."""
