"""Sphinx configuration of gaussmix's documentation site.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (the ``docs`` extra). The API
reference is generated from the docstrings (autodoc + numpydoc); the gallery scripts under
``docs/examples`` run at build time and their figures go into the pages (sphinx-gallery).
"""

import os
import sys

import gaussmix

os.environ.setdefault("MPLBACKEND", "Agg")

project = "gaussmix"
author = "the gaussmix developers"
copyright = "the gaussmix developers"
release = gaussmix.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples/README.rst"]
# The Markdown pages (C++ guide, model file, architecture) open with a level-1 heading each.
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# numpydoc renders the Parameters/Returns/Examples sections; members are listed by autodoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_theme_options = {
    "description": "Gaussian mixtures by EM, fast and exact",
    "fixed_sidebar": True,
}
html_static_path = []
sys.path.insert(0, os.path.abspath("."))
