"""Stand-in for the compiled ``_core`` in builds made with GAUSSMIX_DISPATCH=ON.

Python prefers an extension module over a source file of the same name, so in ordinary builds
the compiled ``_core`` is imported and this file is never read. A dispatch build has no single
``_core`` but one per x86-64 level; this file imports the best one for this CPU and takes its
place under the name ``gaussmix._core``.
"""

import sys

from gaussmix._isa import load_core

sys.modules[__name__] = load_core()
