"""The live channel's WebSocket routes ($connect, $disconnect, watch, unwatch, typing, ping): ``helpdesk.api.live``."""

from helpdesk.handlers.entry import api_function

lambda_handler = api_function("helpdesk.api.live")
