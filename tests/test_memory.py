import platform

from sdtm_lupus.memory import release_free_memory


def test_free_memory_is_released_on_glibc():
    # CI and the target machines are glibc Linux: the call must reach malloc_trim there
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert release_free_memory() is expected
