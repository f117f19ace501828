import pytest

from packages.errors import UploadRejected
from packages.uploads.filenames import check_wheel_filename


def test_plain_linux_wheels_are_accepted_on_a_private_index(settings):
    settings.INDEX_PYPI_PLATFORM_TAGS_ONLY = False
    check_wheel_filename("inhouse-1.0-cp311-cp311-linux_x86_64.whl",
                         project_name="inhouse", version="1.0")


def test_pypi_platform_policy_is_a_setting(settings):
    settings.INDEX_PYPI_PLATFORM_TAGS_ONLY = True
    with pytest.raises(UploadRejected, match="unsupported platform tag 'linux_x86_64'"):
        check_wheel_filename("inhouse-1.0-cp311-cp311-linux_x86_64.whl",
                             project_name="inhouse", version="1.0")
    check_wheel_filename("inhouse-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                         project_name="inhouse", version="1.0")
