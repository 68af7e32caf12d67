#!/usr/bin/env python3
"""Checks tamper.editing_software against an independent reader of the tags: ExifTool.

For every file of a labelled folder, ExifTool reads Software, ProcessingSoftware, CreatorTool,
HistorySoftwareAgent and Comment; a file "names an editor" when one of those values matches an
`editor` signature of models/editors.toml. idforensics must report tamper.editing_software on each
such file it can decode (recall), and on no camera original (label `pristine` in a_camera_exif).

    apt-get install libimage-exiftool-perl
    cargo build --release
    python3 scripts/check_editor_traces.py ../shared/corpus

Test tooling only: nothing in the service depends on ExifTool.
"""

import json
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
TAGS = ["Software", "ProcessingSoftware", "CreatorTool", "HistorySoftwareAgent", "Comment"]


def main() -> int:
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus")
    editors = [
        pattern
        for signature in tomllib.loads((ROOT / "models" / "editors.toml").read_text())["software"]
        if signature["kind"] == "editor"
        for pattern in signature["patterns"]
    ]
    rows = [line.split("\t") for line in (folder / "MANIFEST.tsv").read_text().splitlines()[1:] if line]
    files = [folder / row[0] for row in rows]
    labels = {str(folder / row[0]): (row[1], row[2]) for row in rows}
    exif = json.loads(subprocess.run(
        ["exiftool", "-j", "-q", "-m", *[f"-{tag}" for tag in TAGS], *map(str, files)],
        capture_output=True, text=True, check=False).stdout or "[]")
    names_editor = set()
    for entry in exif:
        values = []
        for tag in TAGS:
            value = entry.get(tag)
            values.extend(value if isinstance(value, list) else [value] if value is not None else [])
        if any(pattern in str(value).lower() for value in values for pattern in editors):
            names_editor.add(entry["SourceFile"])
    ours = subprocess.run(
        [str(ROOT / "target" / "release" / "idforensics"), "analyze", "--json", *map(str, files)],
        capture_output=True, text=True, check=False).stdout.splitlines()
    found, missed, decodable, false_traces, camera = 0, [], 0, [], 0
    for line in ours:
        result = json.loads(line)
        codes = {finding["code"] for finding in result.get("findings", [])}
        category, label = labels[result["file"]]
        if "error" in result:
            continue
        if result["file"] in names_editor:
            decodable += 1
            if "tamper.editing_software" in codes:
                found += 1
            else:
                missed.append(result["file"])
        elif category == "a_camera_exif" and label == "pristine":
            camera += 1
            if codes & {"tamper.editing_software", "tamper.edit_history"}:
                false_traces.append(result["file"])
    print(f"files ExifTool says name an editor: {len(names_editor)} ({decodable} decodable)")
    print(f"tamper.editing_software on them: {found}/{decodable}")
    print(f"camera originals with an editing finding: {len(false_traces)}/{camera}")
    for file in missed + false_traces:
        print("  ", file)
    return 0 if not missed and not false_traces else 1


if __name__ == "__main__":
    sys.exit(main())
