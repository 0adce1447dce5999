from tests.integration._moto import *  # noqa: F403
from tests.integration._openbao import *  # noqa: F403
from tests.integration._stalling import *  # noqa: F403
