"""The node agent (`transcripts agent`): an OpenAI-compatible service on each generator machine.

It sits in front of an in-process llama.cpp model or a local OpenAI-compatible server (llama-server,
Ollama, LM Studio, vLLM), admits a bounded number of calls, rate-limits each client, checks JWT bearer
tokens by role, serves TLS, exports Prometheus metrics, writes an audit line per request, and registers
and heartbeats the machine's hardware profile and live state into the state database.
"""
