"""PHI / PII scrubbing: spoken-form normalisation, Presidio with added recognizers, surrogates or masks."""
