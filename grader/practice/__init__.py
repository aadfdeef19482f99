"""Practice beyond the code: concept questions, hints, a timed interview and lasting progress.

Dependencies point one way: `formulas` -> `questions` -> `progress` -> `interview` -> `render`;
the CLI and the notebook only call into them.
"""
