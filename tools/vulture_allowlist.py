# ruff: noqa: F821, B018, E501
"""Names vulture reports as unused in the shipped package that are used, each reviewed.

Run: ``vulture service/camera_service tools/vulture_allowlist.py --min-confidence 60``.
Vulture counts every name below as used (this file is never imported). An entry belongs here
only when something vulture cannot see uses it: a framework that calls it by name, a protobuf
field set for the client, a registry, or a package beside the product (the laptop viewer,
the tests). Dead code is deleted, not listed. Keep the reason on every line.
"""

# -- protobuf fields set on messages (the SDK reads them; vulture sees plain assignments) ---
_.user_token  # LoginResponse / GetAuthTokenRequest token (robot.session, robot.user_login, settings_page.robot_auth)
_.editable  # DictParam.Spec string_spec.editable: menus are not free text (serving.custom_params, view_params)
_.display_name  # ui_info.display_name of each custom parameter (clients' UI labels)
_.display_order  # ui_info.display_order of each custom parameter (clients' UI order)
_.frame_name_image_sensor  # ImageCapture.frame_name_image_sensor (serving.description)

# -- http.server hooks, called by the standard library by name -----------------------------
_.do_GET  # BaseHTTPRequestHandler dispatch (settings_page.http_api)
_.do_POST  # BaseHTTPRequestHandler dispatch (settings_page.http_api)
_.log_message  # BaseHTTPRequestHandler logging hook (web.http_server, settings_page.http_api)
_.handle_error  # socketserver.BaseServer error hook (settings_page.http_api)
_.server_version  # BaseHTTPRequestHandler Server header (settings_page.http_api)
_.protocol_version  # BaseHTTPRequestHandler HTTP/1.1 keep-alive (web.http_server)
_.daemon_threads  # socketserver.ThreadingMixIn: request threads do not block exit (web.http_server)

# -- pydantic (the config schema); its validators are ignored by decorator (pyproject) ------
_.model_config  # pydantic reads each model's ConfigDict (schema.base, schema.sources)

# -- Starlette and uvicorn hooks (the settings page's server, web.asgi_server) --------------
_.render  # starlette JSONResponse.render: SafeJSON masks secrets (settings_page.http_api)
_.install_signal_handlers  # uvicorn.Server hook: the service owns the signals
sockets  # uvicorn calls Server.startup(sockets=...) by keyword: the override keeps the name
_.servers  # uvicorn.Server.servers: what its shutdown closes (our accept task)
_.wait_closed  # uvicorn's shutdown awaits each server's wait_closed
_.should_exit  # uvicorn.Server.should_exit: its main loop stops on it

# -- source kinds, registered with @register(kind) and built by name (sources.create_source)
_.FileSource  # kind "file"
_.SyntheticSource  # kind "synthetic"

# -- the web module the settings page and the laptop viewer share (viewer/ is not shipped) --
_.as_json  # web.errors.WebError.as_json: the viewer's JSON error bodies (viewer.http_api)
_.RobotUnreachable  # web.errors: the viewer's robot link (viewer.robot_link)
_.ServiceUnreachable  # web.errors: the viewer's robot link (viewer.robot_link)
_.Forbidden  # web.errors: the viewer's Host check (viewer.http_api)
_.host_allowed  # web.http_server: the viewer's Host check (viewer.http_api)
_._send_static  # web.http_server.JsonStaticHandler: the viewer's static files (viewer.http_api)

# -- V4L2 ABI constants the fake V4L2 driver answers with (fake_cameras.v4l2_world, tests) --
_.CAP_META_CAPTURE  # a metadata node (fake world's second node of a camera)
_.CAP_STREAMING  # every fake node streams
_.CTRL_TYPE_BUTTON  # a control kind the service leaves out (test_v4l2_controls)

# -- robot login, view ranges, flag checks: written once in the product, used by the viewer --
_.read_payload_login  # robot.user_login: the viewer logs in with payload credentials (viewer.__main__)
_.read_range  # serving.view_params: the viewer shows a 16-bit view's range (viewer.robot_link)
_.reject_unknown  # cli.abbreviations: the viewer's command line refuses unknown flags the same way (viewer.__main__)

# -- read by tests only: observation points of behaviour the tests check --------------------
_.estimate_quality  # core.jpeg_quality one-shot form: the tests' oracle for JPEG quality (tests, bench tests)
_.in_sync  # robot.faults.FaultReporter: tests wait until the robot's faults match (test_service_robot)
_.refusals  # robot.login_backoff.LoginBackoff: refusals in a row (test_login_backoff)
_.open_connections  # web.asgi_server: connections open now (test_http_limits)
_.bracket  # core.clock_map.ClockMap: the last measurement's bracket width (test_clock_map)
_.malformed  # app.service.CameraService: the malformed-request log, read-only (test_malformed)
_.recording  # clips.plugin.ClipsPlugin: clips being recorded now (test_clips_robot waits on it)
_.held_bytes  # clips.ring.PreRollRing: bytes held, read by the ring's budget tests
_.held_seconds  # clips.ring.PreRollRing: the span held, read by the clip tests' warm-up

# -- attributes written for libraries that read them ----------------------------------------
_.data_buffer_client  # clips.servicer: the SDK plugin service reads it (None: no request copies)
_.value_validators  # clips.servicer: the SDK plugin service validates custom params with it
_.time_base  # clips.writer: PyAV streams and packets read their time base
_.dts  # clips.writer: PyAV packet decoding timestamp, read by the muxer
_.is_keyframe  # clips.writer: PyAV packet flag, read by the muxer
_.pix_fmt  # clips.writer: PyAV stream pixel format, read by the encoder
_.wait_solved  # calibrate.live_run.CalibrationRun: tests wait for the background solve with it (test_live_run)
_.main_loop  # web.asgi_server: overrides uvicorn.Server.main_loop, which uvicorn calls
