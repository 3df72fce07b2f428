#!/usr/bin/env python3
"""make_dataset_seeds: writes the seed corpus of the dataset fuzz target
(tests/fuzz_dataset.c) into tests/fuzz/dataset_seeds/.

A few real names from names.txt in the shapes a names file comes in (LF,
CRLF, no final newline, padded, blank lines), and one small file for each
rule of the loader (dataset.h): every printable character, a space inside a
name, a name longer than the model's context, and each kind of refusal.

Usage: python3 tests/fuzz/make_dataset_seeds.py [--data data/names.txt] [--output-dir DIR]"""
import argparse
import os
import string

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(os.path.dirname(HERE))


def seeds(names):
    head = names[:40]
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    return {
        "names_head.txt": "\n".join(head) + "\n",
        "names_crlf.txt": "\r\n".join(head[:10]) + "\r\n",
        "names_no_final_newline.txt": "\n".join(head[:5]),
        "names_padded_blank_lines.txt": "\n".join(f" \t{name}  \v\f" if i % 3 else "\n \t" for i, name in enumerate(head[:12])),
        "every_printable_character.txt": "\n".join(printable) + "\n" + printable + "\n",
        "space_inside_names.txt": "mary ann\nde la cruz\n  jo  \n",
        "longer_than_context.txt": string.ascii_lowercase * 3 + "\n" + "a\n",
        "one_character.txt": "a",
        "only_blank_lines.txt": "\n \n\t\r\n\v\f\n",
        "empty.txt": "",
        "control_byte.txt": "anna\nbo\x01b\n",
        "nul_byte.txt": "a\x00b\n",
        "tab_inside_name.txt": "an\tna\n",
        "delete_byte.txt": "anna\x7f\n",
        "utf8_name.txt": "zo\u00eb\nemma\n",
        "latin1_name.txt": b"zo\xebemma\n",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(PROJECT_DIR, "data", "names.txt"))
    parser.add_argument("--output-dir", default=os.path.join(HERE, "dataset_seeds"))
    args = parser.parse_args()
    with open(args.data) as f:
        names = [line.strip() for line in f if line.strip()]
    os.makedirs(args.output_dir, exist_ok=True)
    for name, content in sorted(seeds(names).items()):
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        with open(os.path.join(args.output_dir, name), "wb") as f:
            f.write(data)
        print(f"{os.path.join(args.output_dir, name)}: {len(data)} bytes")


if __name__ == "__main__":
    main()
