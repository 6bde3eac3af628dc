import Lifter
