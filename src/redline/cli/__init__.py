"""Command-line entry points; ``redline`` dispatches to one module per command group."""
