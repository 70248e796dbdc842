"""``parity mutate``: how much of a backend's behaviour Parity actually pins down.

A green run says nothing about what it would have missed. Mutation testing answers it:
make one small, realistic change to a backend module (``<`` for ``<=``, ``and`` for
``or``, a constant off by one, ``True`` for ``False``), run Parity against the mutated
backend, and see whether it goes red. The share of mutants caught is the detection
score; the survivors are the behaviours no scenario checks.

- :mod:`parity.mutate.operators` finds and applies mutations (pure AST work).
- :mod:`parity.mutate.hook` loads the mutated module in a child process.
- :mod:`parity.mutate.runner` runs Parity once per mutant and writes the score.
"""
