"""Limits of a schema set, whatever it is read from: ``.kstate`` files
(``build.py``) or a snapshot JSON (``snapshot_read.py``) obey the same ones,
so a side given as a snapshot can do no more than its sources could.

docs/security.md explains each; a value past one is a positioned error
(exit 2) before any work proportional to it.  The codec's own limits are in
``kstate/codec/limits.py``.
"""

from __future__ import annotations

#: State ids are positive ``int``s on the wire (the header's ``state_id``).
MAX_ID = (1 << 31) - 1

#: Versions are positive ``int``s on the wire (the header's ``version``).
MAX_VERSION = (1 << 31) - 1

#: Versions one state may span, ``version - min_version + 1`` (1024).  The
#: model, every backend and the checker handle each supported version (one
#: layout each), so a state of ``version = 1000000000`` and ``min_version =
#: 1`` would take hours and gigabytes; a kernel state gains a version per
#: format change, and readers drop the oldest ones with ``min_version``.
MAX_VERSION_SPAN = 1024

#: Members on the wire, summed over every supported version of every state of
#: a schema set (262,144): the size of the per-version layouts the backends
#: write out (versions x fields).  The project's own schemas use under 200;
#: this keeps ``kstate compile`` of any accepted set to seconds.
#: ``LIMIT_EXCEEDED`` at the ``min_version`` (or ``version``) line of the
#: state that passes it.
MAX_LAYOUT_MEMBERS = 1 << 18

#: Structs and nested states inside each other (128 levels; a struct or
#: nested state inside another counts one).  The front end and the backends
#: walk these chains recursively; the codec decodes 32 levels at most anyway.
#: ``LIMIT_EXCEEDED`` at the item 129 levels from the bottom of the chain.
MAX_TYPE_NESTING = 128

#: Characters in one name (an item, member, enum value or C name): 255.
MAX_NAME_LENGTH = 255

#: Bytes of one snapshot JSON (16 MiB).  The snapshot of ``schemas/`` (17
#: states) is 115 KiB; parsing 16 MiB of JSON takes about a second.
MAX_SNAPSHOT_BYTES = 16 << 20

#: Bytes of one free text in a snapshot (a doc comment or a reason, 64 KiB).
MAX_TEXT_LENGTH = 64 << 10
