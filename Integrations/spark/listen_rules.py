"""The importer's row rules, for Spark jobs: the same checks, in the same order, with the same messages.

`tastegraph import taste-profile` reads `user<TAB>song<TAB>play_count` rows; a row that breaks a rule fails
the import with `FILE:LINE: reason` (Sources/TasteGraphStore/Import/TasteProfileImporter.swift and
Fields.swift). The listen-log job applies these rules to each raw row before it aggregates, so a log that
the importer would refuse row by row is refused here with the same line and reason.

Differences, by design: a raw log may list a (user, song) pair many times (the job sums them; a triplet
file may not), and the play-count column is optional (each row is then one play).
"""

MAXIMUM_PLAY_COUNT = 1_000_000_000  # GraphStore.maximumPlayCount
MAXIMUM_TEXT = "1,000,000,000"


class RowError(Exception):
    """A row the importer would reject; str() is the importer's reason."""


def printable(raw: bytes, limit: int = 40) -> str:
    """Raw bytes as the importer quotes them: printable ASCII as is, anything else as \\xNN."""
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "\\x%02x" % b for b in raw[:limit])
    return text + ("…" if len(raw) > limit else "")


def play_count(raw: bytes) -> int:
    """A non-negative integer of at most 10⁹ (`Fields.playCount`)."""
    name = "play count"
    if not raw:
        raise RowError(f"{name} is empty")
    start = 1 if raw[:1] in (b"-", b"+") else 0
    digits = raw[start:]
    if not digits or any(not (0x30 <= b <= 0x39) for b in digits):
        raise RowError(f"{name} '{printable(raw)}' is not an integer")
    value = int(digits)
    if value >= 1 << 63:
        raise RowError(f"{name} '{printable(raw)}' is too large: at most {MAXIMUM_TEXT} plays per row")
    if raw[:1] == b"-" and value != 0:
        raise RowError(f"{name} -{value} is negative")
    if value > MAXIMUM_PLAY_COUNT:
        raise RowError(f"{name} {value} is too large: at most {MAXIMUM_TEXT} plays per row")
    return value


def text(raw: bytes, name: str) -> str:
    """Strict UTF-8 without control characters (`Fields.utf8`)."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RowError(f"{name} is not valid UTF-8 (byte 0x{raw[error.start]:x} at offset {error.start})") from None
    for offset, byte in enumerate(raw):
        if byte < 0x20 or byte == 0x7F:
            raise RowError(f"{name} contains control byte 0x{byte:x} at offset {offset}")
    return decoded


def parse(line: bytes, separator: bytes, with_plays: bool):
    """One raw row → (user, song, plays), or raises RowError. Blank lines are None (the importer skips them)."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line:
        return None
    fields = line.split(separator)
    expected = 3 if with_plays else 2
    if len(fields) != expected:
        what = "user, song, play_count" if with_plays else "user, song"
        kind = "tab-separated" if separator == b"\t" else "comma-separated"
        raise RowError(f"wrong column count: expected {expected} {kind} fields ({what}), found {len(fields)}")
    plays = play_count(fields[2]) if with_plays else 1
    if not fields[0]:
        raise RowError("user id is empty")
    if not fields[1]:
        raise RowError("song id is empty")
    return text(fields[0], "user id"), text(fields[1], "song id"), plays
