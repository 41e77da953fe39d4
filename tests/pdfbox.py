"""Run Apache PDFBox Preflight (Debian libpdfbox2-java) on a file: the PDF/A-1b acceptance check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JAVA_DIR = Path("/usr/share/java")
# preflight needs pdfbox, fontbox and xmpbox; commons-logging, javax.activation and jaxb-api
# come from libactivation-java and libjaxb-api-java (Java 11+ dropped them from the JDK).
JARS = (
    "preflight.jar",
    "pdfbox2.jar",
    "fontbox2.jar",
    "xmpbox.jar",
    "commons-logging.jar",
    "javax.activation.jar",
    "jaxb-api.jar",
)
VALIDATOR = "org.apache.pdfbox.preflight.Validator_A1b"


def preflight_available() -> bool:
    return shutil.which("java") is not None and all((JAVA_DIR / jar).exists() for jar in JARS)


def preflight_1b(path: str | Path, timeout: float = 300) -> tuple[bool, str]:
    """Validate ``path`` as PDF/A-1b; returns (valid, Preflight's output).

    Preflight exits 0 for a valid file and prints one line per error otherwise.
    Raises FileNotFoundError when java or the jars are missing.
    """
    java = shutil.which("java")
    missing = [jar for jar in JARS if not (JAVA_DIR / jar).exists()]
    if java is None or missing:
        raise FileNotFoundError(f"PDFBox Preflight needs java and {', '.join(missing) or 'its jars'}")
    classpath = ":".join(str(JAVA_DIR / jar) for jar in JARS)
    proc = subprocess.run(
        [java, "-Djava.awt.headless=true", "-cp", classpath, VALIDATOR, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0 and "is a valid PDF/A-1b file" in output, output
