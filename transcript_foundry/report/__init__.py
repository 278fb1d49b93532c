"""The dataset report: how varied, how covering, how close to real callers and how PHI-free a set of
transcripts is as a whole (diversity, coverage, realism, planted_phi), written as report.json and a
self-contained report.html with its plots (dataset_report.py)."""
