"""What the three jobs share: the Spark session, atomic output files, and CSV fields as TasteGraph writes them."""

import os
import sys
import tempfile

EXIT_USAGE = 2  # the CLI's exit codes: 2 usage, 3 invalid input
EXIT_INPUT = 3


def fail(message: str, code: int) -> "NoReturn":
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def spark_session(master: str, name: str):
    """A quiet session; local[N] needs only the JDK."""
    from pyspark.sql import SparkSession

    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode stays on loopback
    session = (
        SparkSession.builder.master(master).appName(name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    here = os.path.dirname(os.path.abspath(__file__))
    for module in ("common.py", "listen_rules.py"):  # executors import them by name
        session.sparkContext.addPyFile(os.path.join(here, module))
    return session


def check_new_output(path: str, force: bool) -> None:
    """Never replace what TasteGraph did not create: an existing path needs --force, and a directory never."""
    if os.path.isdir(path):
        fail(f"{path} is a directory; give a file path", EXIT_USAGE)
    if os.path.exists(path) and not force:
        fail(f"{path} exists; pass --force to replace it", EXIT_USAGE)


def write_atomically(path: str, chunks) -> int:
    """Writes the byte strings of `chunks` to a temporary file beside `path`, fsyncs, renames over `path`,
    fsyncs the folder. An error leaves `path` as it was. Returns the bytes written."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=folder)
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    folder_descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_descriptor)
    finally:
        os.close(folder_descriptor)
    return written


def csv_field(text: str) -> str:
    """`CSV.field`: quoted, inner quotes doubled, when it holds a comma, quote or line break."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
