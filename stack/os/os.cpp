// Linux backends; see tap_device.hpp
