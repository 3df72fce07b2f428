"""matplotlib with the Agg backend and byte-stable output, for every plot."""
import io
import sys

from .files import ResultsError


def pyplot():
    """matplotlib.pyplot with the Agg backend and reproducible output."""
    try:
        import matplotlib
    except ImportError:
        raise ResultsError(f"{sys.executable} cannot import matplotlib (Debian: apt-get install "
                           "--no-install-recommends python3-matplotlib, for /usr/bin/python3)") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "microgpt"  # stable SVG ids
    import matplotlib.pyplot as plt

    return plt


def figure_bytes(figure, file_format):
    buffer = io.BytesIO()
    metadata = {"Software": None} if file_format == "png" else {"Creator": None, "Date": None}
    figure.savefig(buffer, format=file_format, dpi=120, metadata=metadata)
    return buffer.getvalue()


def render_figures(plt, plots):
    """{file name: bytes} of (figure, names) pairs; closes every figure."""
    outputs = {}
    for figure, names in plots:
        for name in names:
            outputs[name] = figure_bytes(figure, name.rsplit(".", 1)[1])
        plt.close(figure)
    return outputs
