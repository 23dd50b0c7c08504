""" "Cannot tell" as an outcome: what makes a face's gender, or a photo's decision, too weak to act on.

* **A face that cannot be judged** (``face_doubt``): a child (the age model puts it under
  ``child_age``), a blurred face (sharpness under ``min_sharpness``), a face turned too far
  (``max_yaw``).  Its gender is neither a match nor a miss, so a rule that depends on it sends the
  photo to review, with that reason (``child``, ``blurred``, ``turned``) instead of ``uncertain``.
* **Evidence the counted faces leave out** (``overlooked``): the decision is made again with the
  near misses counted as faces of unknown gender, then with the faces under ``min_face_size``
  (down to ``small_faces``) counted; where that would change what is done, the photo goes to
  review (``near-miss``, ``small-face``): a detector that nearly saw someone, or a group photo
  whose only man is small, is never silently quarantined.

The settings are the rules file's ``cannot_tell`` block (cleaner.rules.model.CannotTell).
"""

from __future__ import annotations

from cleaner.records import Face
from cleaner.rules.model import BLURRED, CHILD, TURNED, CannotTell


def face_doubt(ct: CannotTell, face: Face) -> str | None:
    """Why ``face``'s gender cannot be judged, or None when it can."""
    if ct.child_age > 0 and face.age is not None and face.age < ct.child_age:
        return CHILD
    if ct.min_sharpness > 0 and face.sharpness is not None and face.sharpness < ct.min_sharpness:
        return BLURRED
    if ct.max_yaw < 90 and face.yaw is not None and face.yaw > ct.max_yaw:
        return TURNED
    return None


def unknown_face(face: Face) -> Face:
    """A near miss as a face whose gender and age nobody knows."""
    return Face(face.box, face.detector_confidence)
