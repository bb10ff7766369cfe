"""``python -m mmskelcl.utils.demo_data OUT.pkl [--seed N] [--check]``."""
from .dataset import main

if __name__ == '__main__':
    main()
