#!/usr/bin/env python3
"""Records the reference numbers the content tests compare tract against
(fixtures/content/pose_reference.json). Run once, by hand, in a venv with
mediapipe==0.10.14 and ai-edge-litert (the TFLite runtime):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install mediapipe==0.10.14 ai-edge-litert
    /tmp/ref/bin/python scripts/pose_reference.py MODELS_DIR MEDIAPIPE_DIR PHOTOS_DIR > fixtures/content/pose_reference.json

- `raw`: the TFLite runtime's outputs of both rewritten models (as installed
  by scripts/setup.sh) on inputs taken from astronaut.png by plain
  subsampling (every other pixel), so that Rust builds the identical input:
  the detector's three best anchors and its summed logits, the landmark
  model's 39 x 5 values and pose flag. The original models give the same
  numbers (the rewrite is exact).
- `pipeline`: MediaPipe's own pose solution (static images, the full
  landmark model) on each photo: the 33 landmarks, normalised x, y and
  visibility, or null where it finds nobody.
"""
import json
import sys

import numpy as np
from PIL import Image


def litert(path, inp):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=path)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], inp)
    it.invoke()
    return [it.get_tensor(o["index"]) for o in it.get_output_details()]


def raw(models, photos):
    img = np.asarray(Image.open(f"{photos}/astronaut.png").convert("RGB"), dtype=np.float32)
    det_in = (img[32:480:2, 32:480:2] / 127.5 - 1.0)[None].astype(np.float32)
    lmk_in = (img[0:512:2, 0:512:2] / 255.0)[None].astype(np.float32)
    boxes, scores = litert(f"{models}/pose_detection.tflite", det_in)
    scores = scores.reshape(-1)
    best = np.argsort(-scores)[:3]
    values, flag, *_ = litert(f"{models}/pose_landmark_full.tflite", lmk_in)
    return {
        "detector_best": [
            {"anchor": int(i), "logit": float(scores[i]), "values": [float(v) for v in boxes[0, i]]}
            for i in best
        ],
        "detector_logit_sum": float(scores.sum()),
        "landmark_values": [float(v) for v in values.reshape(-1)],
        "landmark_flag": float(flag.reshape(-1)[0]),
    }


def pipeline(photos, names):
    import cv2
    from mediapipe.python.solutions import pose as mp_pose

    out = {}
    with mp_pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5) as p:
        for name in names:
            img = cv2.cvtColor(cv2.imread(f"{photos}/{name}", cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            r = p.process(img)
            out[name] = None if r.pose_landmarks is None else [
                [round(l.x, 5), round(l.y, 5), round(l.visibility, 4)] for l in r.pose_landmarks.landmark
            ]
    return out


def main():
    models, _mediapipe, photos = sys.argv[1:4]
    names = ["astronaut.png", "camera.png", "messi5.jpg", "basketball1.png",
             "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"]
    doc = {"raw": raw(models, photos), "pipeline": pipeline(photos, names)}
    json.dump(doc, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
