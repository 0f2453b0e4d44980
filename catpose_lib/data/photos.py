"""A user's own photos: files and folders given on the command line, each checked cheaply
(size, image header, pixel count) before it is decoded, so that one bad file is reported by
name and skipped instead of stopping the rest."""
import warnings
from dataclasses import dataclass
from pathlib import Path

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
_KINDS = "/".join(s[1:] for s in PHOTO_SUFFIXES)  # jpg/jpeg/png, for messages
MAX_BYTES = 100 * 10**6      # a photo file larger than this is not decoded
MAX_PIXELS = 50 * 10**6      # nor one of more pixels (a 50-megapixel image is ~150 MB decoded)


@dataclass(frozen=True)
class Photo:
    path: Path
    name: str          # as the user named it: the path given, or folder/relative path inside it
    key: str           # the file's name, or its path inside the folder given (names its overlay)


def is_photo_name(path) -> bool:
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def collect_photos(paths) -> tuple:
    """(photos, problems) for files and folders: a folder gives its .jpg/.jpeg/.png files
    (any case, its subfolders too, sorted); problems are (path, reason) pairs."""
    photos, problems, seen = [], [], set()

    def add(path, name, key):
        if path.resolve() not in seen:
            seen.add(path.resolve())
            photos.append(Photo(path, name, key))

    for arg in paths:
        p = Path(str(arg)).expanduser()
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and is_photo_name(f))
            if not found:
                problems.append((str(arg), f"no {_KINDS} photos in this folder"))
            for f in found:
                add(f, str(Path(str(arg)) / f.relative_to(p)), f.relative_to(p).as_posix())
        elif p.is_file():
            if is_photo_name(p):
                add(p, str(arg), p.name)
            else:
                problems.append((str(arg), f"not a {_KINDS} photo"))
        else:
            problems.append((str(arg), "no such file or folder"))
    return photos, problems


def photo_problem(path):
    """Why ``path`` cannot be predicted (empty, too large, not an image), from its size and
    image header only; None when it looks fine."""
    from PIL import Image

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "empty file (0 bytes)"
    if size > MAX_BYTES:
        return f"too large ({size / 1e6:.0f} MB; at most {MAX_BYTES / 1e6:.0f} MB)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
    except Image.DecompressionBombError:
        return f"too large (more than {MAX_PIXELS / 1e6:.0f} megapixels)"
    except OSError as exc:  # PIL.UnidentifiedImageError is an OSError
        return "not an image" if "cannot identify" in str(exc) else f"cannot be read ({exc})"
    if width * height > MAX_PIXELS:
        return (f"too large ({width} x {height} = {width * height / 1e6:.0f} megapixels; "
                f"at most {MAX_PIXELS / 1e6:.0f})")
    return None


def read_photo(path):
    """The photo as MMPose's ``LoadImage`` decodes it (mmcv, BGR, EXIF orientation applied);
    ``ValueError`` when it cannot be decoded."""
    import mmcv

    img = mmcv.imfrombytes(Path(path).read_bytes(), flag="color", channel_order="bgr")
    if img is None:
        raise ValueError("cannot be decoded")
    return img
