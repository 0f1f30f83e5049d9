"""The CWL spec's command-line building rules, on tools as written."""

from __future__ import annotations

from typing import Any

import yaml

from kg.extract.cwl_cmdline import command_line, command_words


def _words(text: str) -> list[str]:
    tool: Any = yaml.safe_load(text)
    return command_words(tool, lambda location: location.removeprefix("../../"))


def test_sorted_by_position_arguments_first_then_input_names() -> None:
    tool = """
baseCommand: [python, -u]
arguments:
  - {position: 2, valueFrom: --verbose}
  - late
  - {position: -1, valueFrom: -mtool, shellQuote: true}
inputs:
  b_second: {type: string, default: bee, inputBinding: {position: 1}}
  a_first: {type: string, default: ay, inputBinding: {position: 1}}
  script:
    type: File
    default: {class: File, path: ../../src/run.py}
    inputBinding: {}
  unbound: {type: string, default: never}
outputs: {}
"""
    assert _words(tool) == ["python", "-u", "-mtool", "late", "src/run.py", "ay", "bee", "--verbose"]


def test_prefix_separate_booleans_lists_and_redirects() -> None:
    tool = """
baseCommand: sort
inputs:
  reverse: {type: boolean, default: true, inputBinding: {position: 1, prefix: -r}}
  quiet: {type: boolean, default: false, inputBinding: {position: 1, prefix: -q}}
  key: {type: int, default: 2, inputBinding: {position: 2, prefix: -k, separate: false}}
  cols: {type: 'int[]', default: [1, 3], inputBinding: {position: 3, prefix: -c, itemSeparator: ','}}
  files:
    type: 'File[]'
    default: [{class: File, location: file://../../a b.txt}, {class: File, path: ../../c.txt}]
    inputBinding: {position: 4}
  none: {type: 'string?', default: null, inputBinding: {position: 5, prefix: --none}}
  out: {type: string, default: sorted.txt}
outputs: {}
stdout: $(inputs.out)
"""
    assert _words(tool) == ["sort", "-r", "-k2", "-c", "1,3", "a b.txt", "c.txt"]
    line = command_line(yaml.safe_load(tool), lambda location: location.removeprefix("../../"))
    assert line == "sort -r -k2 -c 1,3 'a b.txt' c.txt > sorted.txt"
