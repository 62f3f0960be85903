# SPDX-License-Identifier: GPL-2.0-only
"""msealbench's Python library: what plots/compare.py, plot.py, validate.py, synth.py and
vm/msealbench-vm are built on.

  cli         how every entry point ends, its children, files written whole, option types
  results     the results file (schema v1): reader and writer
  stats       summaries, outliers, bootstrap intervals, Mann-Whitney U
  comparison  pairing cells, comparisons and verdicts, group geomeans, history
  tables      the table model and one renderer per output format (text, markdown, json)
  report      compare's tables and report built from comparisons
  gnuplot     gnuplot scripts and data files written safely, gnuplot run with a timeout
  figures     the figures plot.py draws, from what comparison returned
  validation  validate.py's trials, tallies and report
  synth       synthetic results with known distributions, for tests and demos
"""
