"""Test helpers: loopback servers, simulated nodes, corpora, golden files, the import graph."""
