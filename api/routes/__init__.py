"""Route modules. Their id parameters use the ``id`` path convertor, registered here first."""

from api.paths import register

register()
