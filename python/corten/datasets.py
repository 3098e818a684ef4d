"""MNIST and Fashion-MNIST from IDX files (gzipped or not).

Where the files are looked for, in order: `root` (and root/<name>), then
$CORTEN_DATA/<name>, /usr/share/datasets/<name> (Debian's dataset-fashion-mnist
package), ~/.cache/corten/<name>. With download=True, missing files are fetched
from the official URLs into ~/.cache/corten/<name> and checked against known MD5s.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from .data import TensorDataset
from .tensor import Tensor

# IDX element types: code -> big-endian NumPy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

_urlopen = urllib.request.urlopen  # replaced in tests


class DatasetError(RuntimeError):
    """A data file is missing, truncated or not what it claims to be."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as e:
        raise DatasetError(f"{path}: cannot decompress ({e}); the file is truncated or corrupt") from None


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """The array stored in an IDX file, validating the magic number, the number
    of dimensions (when given) and that the data size matches the header."""
    path = Path(path)
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise DatasetError(f"{path}: too short for an IDX header ({len(buf)} bytes)")
    if buf[0] != 0 or buf[1] != 0 or buf[2] not in _IDX_TYPES:
        raise DatasetError(f"{path}: bad IDX magic number 0x{buf[:4].hex()} (expected 0x0000TTNN)")
    nd = buf[3]
    if ndim is not None and nd != ndim:
        raise DatasetError(f"{path}: expected an IDX file of {ndim} dimensions, found {nd}")
    if nd > 64:
        raise DatasetError(f"{path}: an IDX header with {nd} dimensions (at most 64 are supported)")
    if len(buf) < 4 + 4 * nd:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(buf, ">u4", nd, 4))
    dt = np.dtype(_IDX_TYPES[buf[2]])
    want = math.prod(dims) * dt.itemsize  # Python ints: a lying header cannot wrap around
    have = len(buf) - 4 - 4 * nd
    if math.prod(max(d, 1) for d in dims) * dt.itemsize >= 2**63:  # NumPy refuses such shapes even when empty
        raise DatasetError(f"{path}: IDX header dimensions {dims} are too large")
    if have != want:
        kind = "truncated" if have < want else "longer than its header says"
        raise DatasetError(f"{path}: file is {kind}: header {dims} needs {want} bytes of data, found {have}")
    return np.frombuffer(buf, dt, offset=4 + 4 * nd).reshape(dims).astype(dt.newbyteorder("="))


_SLAB = 1 << 16  # bytes per lookup or histogram pass: their intp copy (512 KiB) stays in L2


def pixel_table() -> np.ndarray:
    """float32 value of each byte 0..255: the byte times float32(1/255)."""
    return np.arange(256, dtype=np.float32) * np.float32(1 / 255)


def pixel_values(images: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
    """table[images] as a new float32 array (the default table: pixel_table()).
    One pass through a 256-entry table, in slabs whose intp indices stay in
    cache; much faster than astype + scaling on 47M bytes."""
    table = pixel_table() if table is None else table
    out = np.empty(images.shape, np.float32)
    flat_in, flat_out = images.reshape(-1), out.reshape(-1)
    index = np.empty(_SLAB, np.intp)
    for i in range(0, flat_in.size, _SLAB):
        n = min(_SLAB, flat_in.size - i)
        index[:n] = flat_in[i : i + n]
        np.take(table, index[:n], out=flat_out[i : i + n])
    return out


def pixel_moments(images: np.ndarray, table: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and (population) standard deviation of table[images], in float64,
    from a 256-bin histogram of the bytes: no float copy of the images."""
    table = pixel_table() if table is None else table
    counts = np.zeros(256, np.int64)
    flat = images.reshape(-1)
    for i in range(0, flat.size, _SLAB):  # slabs: bincount copies its input to intp
        counts += np.bincount(flat[i : i + _SLAB], minlength=256)
    values = table.astype(np.float64)
    n = float(flat.size)
    mean = float((counts * values).sum() / n)
    var = float((counts * (values - mean) ** 2).sum() / n)
    return mean, math.sqrt(var)


class _IDXDataset(TensorDataset):
    name = ""
    mirrors: tuple = ()
    md5: dict = {}
    apt_package = ""
    classes: tuple = ()
    _files = {
        True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }

    def __init__(
        self, root: str | os.PathLike | None = None, train: bool = True, download: bool = False
    ) -> None:
        self.train = train
        images, labels, self.root = self.raw(root, train, download)
        self.images_u8 = images
        super().__init__(Tensor._wrap(pixel_values(images)), Tensor._wrap(labels))

    @classmethod
    def raw(
        cls, root: str | os.PathLike | None = None, train: bool = True, download: bool = False
    ) -> tuple[np.ndarray, np.ndarray, Path]:
        """The split as stored: uint8 images (N, 28, 28), int64 labels (N,) and the
        folder they came from; no float copy of the pixels is made."""
        img_name, lbl_name = cls._files[train]
        folder = cls._find(root, (img_name, lbl_name))
        if folder is None and download:
            folder = cls.download()
        if folder is None:
            raise DatasetError(cls._not_found_message(root))
        images = read_idx(cls._file(folder, img_name), ndim=3)
        labels = read_idx(cls._file(folder, lbl_name), ndim=1)
        if images.dtype != np.uint8:
            raise DatasetError(f"{folder}: images are {images.dtype}, expected unsigned bytes (IDX type 0x08)")
        if images.shape[0] != labels.shape[0]:
            raise DatasetError(f"{folder}: {images.shape[0]} images but {labels.shape[0]} labels")
        return images, labels.astype(np.int64), folder

    @property
    def images(self) -> Tensor:
        return self.tensors[0]

    @property
    def labels(self) -> Tensor:
        return self.tensors[1]

    # ---- finding the files ----------------------------------------------------------
    @classmethod
    def search_path(cls, root: Any = None) -> list[Path]:
        dirs = []
        if root is not None:
            dirs += [Path(root), Path(root) / cls.name]
        if os.environ.get("CORTEN_DATA"):
            dirs.append(Path(os.environ["CORTEN_DATA"]) / cls.name)
        dirs.append(Path("/usr/share/datasets") / cls.name)
        dirs.append(cls.cache_dir())
        return dirs

    @classmethod
    def cache_dir(cls) -> Path:
        return Path(os.path.expanduser("~")) / ".cache" / "corten" / cls.name

    @staticmethod
    def _file(folder: Path, base: str) -> Path:
        for cand in (folder / base, folder / (base + ".gz")):
            if cand.is_file():
                return cand
        raise DatasetError(f"{folder}: no {base}[.gz]")

    @classmethod
    def _find(cls, root: Any, names: tuple) -> Path | None:
        for d in cls.search_path(root):
            if all((d / n).is_file() or (d / (n + ".gz")).is_file() for n in names):
                return d
        return None

    @classmethod
    def _not_found_message(cls, root: Any) -> str:
        where = "\n".join(f"  {d}" for d in cls.search_path(root))
        how = f"  apt-get install {cls.apt_package}   (Debian/Ubuntu, as root)\n" if cls.apt_package else ""
        return (
            f"{cls.__name__}: data files not found. Looked in:\n{where}\n"
            f"Get them with one of:\n{how}"
            f"  {cls.__name__}(download=True)   (or --download in the training job)\n"
            f"  put the four IDX files in a folder and pass it as root (or set CORTEN_DATA)"
        )

    # ---- downloading ----------------------------------------------------------------
    @classmethod
    def download(cls) -> Path:
        """Fetch the four .gz files into the cache folder, verifying their MD5 sums."""
        dest = cls.cache_dir()
        dest.mkdir(parents=True, exist_ok=True)
        for base in cls._files[True] + cls._files[False]:
            fname = base + ".gz"
            target = dest / fname
            if target.is_file() and _md5(target) == cls.md5[fname]:
                continue
            errors = []
            for mirror in cls.mirrors:
                url = mirror.rstrip("/") + "/" + fname
                tmp = target.with_suffix(".part")
                try:
                    with _urlopen(url) as resp, open(tmp, "wb") as f:
                        shutil.copyfileobj(resp, f)
                except Exception as e:  # network errors come in many types
                    errors.append(f"{url}: {e}")
                    tmp.unlink(missing_ok=True)
                    continue
                got = _md5(tmp)
                if got != cls.md5[fname]:
                    tmp.unlink(missing_ok=True)
                    errors.append(f"{url}: checksum mismatch (md5 {got}, expected {cls.md5[fname]})")
                    continue
                tmp.replace(target)
                break
            else:
                raise DatasetError(f"could not download {fname}:\n  " + "\n  ".join(errors))
        return dest


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FashionMNIST(_IDXDataset):
    """Zalando's Fashion-MNIST: 60000 train / 10000 test 28x28 grey images, 10 classes."""

    name = "fashion-mnist"
    apt_package = "dataset-fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )


class MNIST(_IDXDataset):
    """LeCun et al.'s handwritten digits: 60000 train / 10000 test 28x28 grey images."""

    name = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = tuple(str(i) for i in range(10))


__all__ = ["FashionMNIST", "MNIST", "read_idx", "DatasetError"]
