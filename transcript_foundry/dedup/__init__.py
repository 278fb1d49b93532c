"""Dedup rules (exact, MinHash LSH, semantic embeddings, conversation flow) and their persisted index."""
