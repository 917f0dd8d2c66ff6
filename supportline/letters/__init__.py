"""Letters (Brevlådan): anonymous, asynchronous threads for when the chat is closed or full.

``models`` (imported by ``supportline.models``, so Django finds them),
``codes`` (the letter code), ``services`` (every write), ``selectors``
(reads), ``views`` (the young person's pages), ``staff_views`` (the
console's Brev tab, plain HTTP) and ``admin`` (metadata only, no text).
"""
