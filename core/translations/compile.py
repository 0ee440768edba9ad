"""Compile every .po catalog to .mo (run by `make`)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent


def main() -> None:
    for po_path in HERE.glob("*/LC_MESSAGES/*.po"):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        with po_path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


if __name__ == "__main__":
    main()
