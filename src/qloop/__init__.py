"""QLoop — quality information feedback system (质量信息反馈系统)."""

__version__ = "0.1.0"
