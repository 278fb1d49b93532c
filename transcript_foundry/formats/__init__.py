"""Export formats: each turns output-contract transcript records into files a platform imports.

Every format module exposes ``render(records, options) -> list[ExportFile]`` (pure: no I/O) and
``validate(root: Path, files: list[str]) -> list[str]`` (problems as ``"<file>: <field>: <message>"``;
empty when every file is valid). Writers and asset checks live elsewhere and only call these two.
"""
