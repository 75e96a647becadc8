#!/usr/bin/python3
"""Loopback RTSP test server: serves an H.264 MP4 file as a camera would, over RTSP/TCP.

Uses Debian's GStreamer RTSP server through python3-gi, so run it with Debian's interpreter:

    /usr/bin/python3 tools/rtsp_server.py --file bikes.mp4 --port 8554 --path /cam

Pipeline: filesrc ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96, RTSP over TCP only. Each
client gets its own media, which plays the file in a loop (RTP timestamps restart with each loop)
unless --no-loop is given. Binds 127.0.0.1 only. When it listens it prints one line to stdout:

    READY rtsp://127.0.0.1:PORT/PATH

(--port 0 picks a free port; the line says which). Stops on SIGINT/SIGTERM.
"""

import argparse
import os
import signal
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
except (ImportError, ValueError) as e:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"rtsp_server.py: cannot load GStreamer RTSP server through python3-gi ({e}); "
        "run it with Debian's /usr/bin/python3 and install python3-gi gir1.2-gst-rtsp-server-1.0\n"
    )
    sys.exit(2)


def _seek_from_start(parse_sink_pad):
    """Flushing seek to the start, pushed upstream from h264parse's sink pad to the demuxer."""
    event = Gst.Event.new_seek(
        1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1
    )
    if not parse_sink_pad.push_event(event):
        sys.stderr.write("rtsp_server.py: seek to the start failed; the file will not loop\n")
    return False  # one-shot when run from GLib.idle_add


def _loop_probe(pad, info):
    """At the end of the file, drop the EOS and restart the file instead.

    (A non-flushing segment seek would keep RTP timestamps increasing, but qtdemux answers it with
    an endless stream of SEGMENT_DONE here; so each loop restarts the timestamps, as a camera
    whose clock jumps would. Clients must cope with that.)"""
    event = info.get_event()
    if event is not None and event.type == Gst.EventType.EOS:
        GLib.idle_add(_seek_from_start, pad)
        return Gst.PadProbeReturn.DROP
    return Gst.PadProbeReturn.OK


def _on_media_configure(_factory, media):
    parse = media.get_element().get_by_name("parse")
    if parse is None:
        return
    pad = parse.get_static_pad("sink")
    pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, _loop_probe)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", required=True, help="H.264 MP4 file to serve")
    ap.add_argument("--port", type=int, default=8554, help="TCP port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--path", default="/cam", help="mount path, e.g. /cam")
    ap.add_argument("--no-loop", action="store_true", help="end the stream at the end of the file")
    args = ap.parse_args()

    if not os.path.isfile(args.file):
        sys.stderr.write(f"rtsp_server.py: file {args.file} does not exist; pass an H.264 MP4 with --file\n")
        return 2
    path = args.path if args.path.startswith("/") else "/" + args.path

    Gst.init(None)
    for element in ("filesrc", "qtdemux", "h264parse", "rtph264pay"):
        if Gst.ElementFactory.find(element) is None:
            sys.stderr.write(
                f"rtsp_server.py: GStreamer element {element} is missing; install "
                "gstreamer1.0-plugins-good and gstreamer1.0-plugins-bad\n"
            )
            return 2

    location = os.path.abspath(args.file).replace("\\", "\\\\").replace('"', '\\"')
    launch = f'( filesrc location="{location}" ! qtdemux ! h264parse name=parse ! rtph264pay name=pay0 pt=96 config-interval=1 )'

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    if not args.no_loop:
        factory.connect("media-configure", _on_media_configure)
    server.get_mount_points().add_factory(path, factory)

    if server.attach(None) == 0:
        sys.stderr.write(f"rtsp_server.py: cannot listen on 127.0.0.1:{args.port} (port in use?)\n")
        return 1
    port = server.get_bound_port()
    print(f"READY rtsp://127.0.0.1:{port}{path}", flush=True)

    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
