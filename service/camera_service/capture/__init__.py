"""From camera to bytes: capture thread per source -> latest-frame store -> encode-once cache.

``capture`` runs one thread per source and puts frames into the ``frame_store``; the servicer
takes the latest frame from the store and asks the ``output_cache`` for the bytes of the output
a client wants, which ``encoding`` produces at most once per frame and output.
"""

from __future__ import annotations
