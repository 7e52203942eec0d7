"""Start one ipycam virtual camera (third-party, from the package index) from a JSON CameraConfig and keep it
running: WS-Discovery on UDP 3702 and ONVIF on config.onvif_port. No video source is opened: ONVIF answers
do not need frames. Usage: python3 ipycam_launch.py CONFIG.json"""
import json
import sys
import time

from ipycam import CameraConfig, IPCamera

config = CameraConfig(**json.load(open(sys.argv[1], encoding="utf-8")))
camera = IPCamera(config)
print("ipycam started" if camera.start() else "ipycam start reported a problem", flush=True)
while True:
    time.sleep(60)
